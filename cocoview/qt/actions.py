"""Every user action with its shortcut, in one table (menus, toolbar and Help read it)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence

StdKey = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    shortcuts: tuple[str | StdKey, ...] = ()
    tip: str = ""
    checkable: bool = False
    group: str = ""


SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("open", "&Open…", (StdKey.Open,), "Open COCO JSON file(s)", group="File"),
    ActionSpec("open_results", "Open &Results…", ("Ctrl+Shift+O",),
               "Attach a detection results file to the open dataset", group="File"),
    ActionSpec("compare_results", "Add Results for Co&mparison…", (),
               "Open a second results file (model B) beside the first (model A): both "
               "evaluated side by side, either on the canvas", group="File"),
    ActionSpec("open_demo", "Open &Demo Dataset", (), "The bundled demo: 19 real COCO images",
               group="File"),
    ActionSpec("use_cache", "Use the Index &Cache", (),
               "Open files indexed before from the cache instead of parsing them again",
               True, "File"),
    ActionSpec("clear_cache", "C&lear the Index Cache", (), "Remove every cached index",
               group="File"),
    ActionSpec("set_images", "Set &Images Folder…", ("Ctrl+I",),
               "Read the open dataset's images from another folder (remembered for this file)",
               group="File"),
    ActionSpec("allow_outside", "Allow Images Outside the Images &Folder", (),
               "Open image files whose file_name is absolute, contains '..' or links outside "
               "the images folder (off by default: they are reported, not opened)", True,
               "File"),
    ActionSpec("close", "&Close", (StdKey.Close,), "Close the dataset", group="File"),
    ActionSpec("save_as", "Save &As…", ("Ctrl+Shift+S",),
               "Write the edited dataset: every object not edited is copied byte for byte "
               "(never over the input unless you confirm)", group="File"),
    ActionSpec("export", "&Export…", ("Ctrl+E",),
               "Write the browsed image list: ids, names, paths or a COCO subset, whole or "
               "split", group="File"),
    ActionSpec("quit", "&Quit", (StdKey.Quit,), group="File"),
    ActionSpec("undo", "&Undo", (StdKey.Undo,), group="Edit"),
    ActionSpec("redo", "&Redo", (StdKey.Redo,), group="Edit"),
    ActionSpec("delete_annotation", "&Delete Selected Annotations", ("Del",),
               "Delete the selected annotations (click one; Ctrl+click adds)", group="Edit"),
    ActionSpec("relabel", "Change &Category…", ("Ctrl+L",),
               "Give the selected annotations another category", group="Edit"),
    ActionSpec("toggle_crowd", "Toggle C&rowd", ("Ctrl+Shift+C",),
               "Switch iscrowd of the selected annotations", group="Edit"),
    ActionSpec("delete_image", "Delete &Image", ("Shift+Del",),
               "Delete the current image and its annotations", group="Edit"),
    ActionSpec("tag_image", "&Tag Image…", ("T",),
               "Tags of the current image (free text, several per image)", group="Edit"),
    ActionSpec("box_to_mask", "Set Box to &Mask Bounds", (),
               "Fit the selected annotation's box to its polygon or RLE mask (after a "
               "drag, or a box that disagrees with its mask)", group="Edit"),
    ActionSpec("next", "&Next Image", ("Right", "D"), group="Go"),
    ActionSpec("prev", "&Previous Image", ("Left", "A"), group="Go"),
    ActionSpec("first", "&First Image", ("Home",), group="Go"),
    ActionSpec("last", "&Last Image", ("End",), group="Go"),
    ActionSpec("goto", "&Go to Image Id…", ("Ctrl+G",), group="Go"),
    ActionSpec("find", "&Find by File Name…", (StdKey.Find,), group="Go"),
    ActionSpec("clear_filter", "&Clear Filter", ("Ctrl+Shift+L",),
               "Remove the image filter: browse all images", group="Go"),
    ActionSpec("masks", "&Masks", ("M",), "Show masks", True, "View"),
    ActionSpec("boxes", "&Boxes", ("B",), "Show bounding boxes", True, "View"),
    ActionSpec("stuff_boxes", "&Stuff Boxes", (),
               "Boxes of panoptic stuff regions (off: they often span the whole image)", True,
               "View"),
    ActionSpec("keypoints", "&Keypoints", ("K",), "Show keypoints and skeletons", True, "View"),
    ActionSpec("labels", "&Labels", ("L",), "Show category labels", True, "View"),
    ActionSpec("results", "&Detections", ("R",), "Show detections from a results file", True,
               "View"),
    ActionSpec("outline_only", "&Outline Only", ("O",), "Masks as outlines, no fill", True,
               "View"),
    ActionSpec("color_by_instance", "&Colour by Instance", ("C",),
               "A colour per object instead of per category (tells overlapping people apart)",
               True, "View"),
    ActionSpec("opacity_up", "More Mask Opacity", ("]",), group="View"),
    ActionSpec("opacity_down", "Less Mask Opacity", ("[",), group="View"),
    ActionSpec("review_mode", "Cycle &Review View", ("E",),
               "With an evaluated results file: both, ground truth only, predictions only, "
               "errors only (false positives and missed ground truth)", group="View"),
    ActionSpec("switch_model", "Show the Other &Model (A / B)", ("X",),
               "With two results files: draw and review model B's detections, or A's",
               group="View"),
    ActionSpec("fit", "&Fit to Window", ("F",), group="View"),
    ActionSpec("actual", "&Actual Size (100 %)", ("1",), group="View"),
    ActionSpec("zoom_in", "Zoom &In", (StdKey.ZoomIn, "+", "="), group="View"),
    ActionSpec("zoom_out", "Zoom &Out", (StdKey.ZoomOut, "-"), group="View"),
    ActionSpec("zoom_sel", "&Zoom to Selection", ("Z",), group="View"),
    ActionSpec("deselect", "Clear Selection", ("Esc",), group="View"),
    ActionSpec("fullscreen", "F&ull Screen", ("F11",), checkable=True, group="View"),
    ActionSpec("shortcuts", "&Keyboard Shortcuts", ("F1", "Ctrl+/"), group="Help"),
    ActionSpec("about", "&About cocoview", (), group="Help"),
)


def key_text(s: str | StdKey) -> str:
    seq = QKeySequence(s)
    return seq.toString(QKeySequence.SequenceFormat.NativeText)
