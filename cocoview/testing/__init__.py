"""Tooling for tests and benchmarks, shipped so that a user can reproduce them:
the generator of COCO-like files (:mod:`cocoview.testing.synth`). Nothing in the
model or the app imports it."""
