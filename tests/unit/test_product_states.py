import pytest

from chalicelib.domain.product import IllegalTransition, ProductStatus, can_move, move

S = ProductStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.UPLOADING, S.PROCESSING),
        (S.PROCESSING, S.READY),
        (S.READY, S.PUBLISHING),
        (S.PUBLISHING, S.PUBLISHED),
        (S.PROCESSING, S.PUBLISHING),  # auto-publish above the seller's threshold
        (S.PUBLISHED, S.PROCESSING),  # an edit after publishing re-runs the pipeline
        (S.FAILED, S.PROCESSING),  # retry
    ],
)
def test_the_pipeline_moves_forward(current: ProductStatus, target: ProductStatus) -> None:
    assert move(current, target) is target


@pytest.mark.parametrize("working", [S.UPLOADING, S.PROCESSING, S.PUBLISHING])
def test_every_working_state_can_fail(working: ProductStatus) -> None:
    assert can_move(working, S.FAILED)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.UPLOADING, S.PUBLISHED),
        (S.UPLOADING, S.READY),
        (S.READY, S.PUBLISHED),  # publishing always goes through MercadoLibre
        (S.PUBLISHED, S.FAILED),  # nothing is running that could fail
        (S.FAILED, S.PUBLISHED),
    ],
)
def test_illegal_moves_are_refused_with_a_reason(current: ProductStatus, target: ProductStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"{current.value} cannot become {target.value}"):
        move(current, target)
