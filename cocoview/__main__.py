from cocoview.cli import main

raise SystemExit(main())
