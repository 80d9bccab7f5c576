"""The face detector finds the faces a doorbell camera sees: tilted, small, in the dark."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from townsquare.media.faces import find_faces

SIDE = 64


def face_on_canvas(index: int, side: int = SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """A real LFW face at `side` px in the middle of a grey canvas, and its centre."""
    patch = (data.lfw_subset()[index] * 255).astype(np.uint8)
    canvas = np.full((side * 3, side * 3, 3), 128, np.uint8)
    face = cv2.resize(patch, (side, side), interpolation=cv2.INTER_CUBIC)
    canvas[side : 2 * side, side : 2 * side] = face[..., None]
    return canvas, (side * 3 // 2, side * 3 // 2)


def holds(boxes: list[tuple[int, int, int, int]], point: tuple[int, int]) -> bool:
    return any(x <= point[0] < x + w and y <= point[1] < y + h for x, y, w, h in boxes)


@pytest.mark.parametrize("index", [0, 7, 21])
def test_a_face_tilted_35_degrees_is_found(index: int) -> None:
    canvas, centre = face_on_canvas(index)
    turn = cv2.getRotationMatrix2D((centre[0], centre[1]), 35, 1.0)
    tilted = cv2.warpAffine(canvas, turn, canvas.shape[1::-1], borderValue=(128, 128, 128))

    assert holds(find_faces(tilted), centre)


def test_a_face_at_night_and_a_face_24_px_high_are_found() -> None:
    canvas, centre = face_on_canvas(3)
    night = np.clip(canvas * 0.2, 0, 255).astype(np.uint8)
    small, small_centre = face_on_canvas(3, side=24)

    assert holds(find_faces(night), centre)
    assert holds(find_faces(small), small_centre)


def test_photos_with_no_face_give_no_region() -> None:
    for name in ("coffee", "chelsea", "coins", "rocket"):
        assert find_faces(getattr(data, name)()) == [], name


def test_the_same_photo_gives_the_same_face_after_searches_of_other_sizes() -> None:
    """The network is fed one input shape: OpenCV's net misplaces boxes when it changes."""
    photo = data.astronaut()
    first = find_faces(photo)
    find_faces(np.full((96, 300, 3), 128, np.uint8))
    find_faces(np.full((700, 90, 3), 128, np.uint8))

    assert find_faces(photo) == first
    assert holds(first, (225, 120))  # the astronaut's face
