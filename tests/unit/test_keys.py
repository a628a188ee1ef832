import pytest

from chalicelib.domain.keys import UploadKey


def test_an_upload_key_names_its_owner_product_and_image() -> None:
    key = UploadKey.parse("uploads/u_1/01JABCDEF/img-2.png")
    assert key == UploadKey(user_id="u_1", product_id="01JABCDEF", image_id="img-2", extension="png")
    assert str(key) == "uploads/u_1/01JABCDEF/img-2.png"


@pytest.mark.parametrize(
    "key",
    [
        "uploads/u1/p1/i1.gif",
        "uploads/u1/p1/i1.JPG",
        "uploads/u1/p1/i1",
        "uploads/u1/i1.jpg",
        "uploads/u1/p1/x/i1.jpg",
        "uploads/../p1/i1.jpg",
        "uploads/u1/p1/i 1.jpg",
        "processed/u1/p1/i1.jpg",
        "uploads/u1/p1/i1.jpg\n",
        "",
    ],
)
def test_anything_else_is_not_an_upload(key: str) -> None:
    assert UploadKey.parse(key) is None
