from chalicelib import listings, products, retry
from chalicelib.api.schemas import (
    DeleteProductQuery,
    ImageOrder,
    MainImageChoice,
    NewImages,
    NewProduct,
    ProductFilters,
    ProductOut,
    ProductPage,
)
from chalicelib.api.views import product_out, products_page
from chalicelib.products import DeclaredPhoto
from functions.api import route


def _declared(images: NewImages | NewProduct) -> list[DeclaredPhoto]:
    return [DeclaredPhoto(i.file_name, i.content_type, i.size) for i in images.images]


@route(
    "/products",
    "POST",
    "Create a product and get an upload form per photo",
    status=201,
    body=NewProduct,
    response=ProductOut,
)
def create_product(user_id: str, body: NewProduct) -> ProductOut:
    return product_out(products.create(user_id, body.prompt, _declared(body)))


@route("/products", "GET", "The seller's products, newest first", query=ProductFilters, response=ProductPage)
def list_products(user_id: str, query: ProductFilters) -> ProductPage:
    found, cursor = products.list_products(
        user_id,
        limit=query.limit,
        status=query.status,
        band=query.confidence,
        text=query.q,
        cursor=query.next,
    )
    return products_page(found, cursor)


@route(
    "/products/{product_id}",
    "GET",
    "One product with its photos and timeline, and its item's status read back from MercadoLibre",
    response=ProductOut,
    errors=(404,),
)
def get_product(user_id: str, product_id: str) -> ProductOut:
    return product_out(listings.opened(user_id, product_id))


@route(
    "/products/{product_id}",
    "DELETE",
    "Delete a product and everything made from it; if listed, close its item (item=close) or keep it",
    status=204,
    query=DeleteProductQuery,
    errors=(404, 409, 502),
)
def delete_product(user_id: str, product_id: str, query: DeleteProductQuery) -> None:
    products.delete(user_id, product_id, query.item)


@route(
    "/products/{product_id}/images",
    "POST",
    "Add photos (same limits, counting the ones it has)",
    status=201,
    body=NewImages,
    response=ProductOut,
    errors=(404, 409),
)
def add_images(user_id: str, product_id: str, body: NewImages) -> ProductOut:
    return product_out(products.add_images(user_id, product_id, _declared(body)))


@route(
    "/products/{product_id}/images/{image_id}",
    "DELETE",
    "Remove a photo",
    response=ProductOut,
    errors=(404, 409),
)
def delete_image(user_id: str, product_id: str, image_id: str) -> ProductOut:
    return product_out(products.delete_image(user_id, product_id, image_id))


@route(
    "/products/{product_id}/images/order",
    "PUT",
    "Put the photos in a new order",
    body=ImageOrder,
    response=ProductOut,
    errors=(404, 409),
)
def reorder_images(user_id: str, product_id: str, body: ImageOrder) -> ProductOut:
    return product_out(products.reorder_images(user_id, product_id, body.image_ids))


@route(
    "/products/{product_id}/main-image",
    "PUT",
    "Choose the main photo",
    body=MainImageChoice,
    response=ProductOut,
    errors=(404, 409),
)
def choose_main_image(user_id: str, product_id: str, body: MainImageChoice) -> ProductOut:
    return product_out(products.choose_main_image(user_id, product_id, body.image_id))


@route(
    "/products/{product_id}/retry",
    "POST",
    "Run the step that failed again (photos, listing or publishing), at the same revision",
    response=ProductOut,
    errors=(404, 409),
)
def retry_product(user_id: str, product_id: str) -> ProductOut:
    return product_out(retry.retry(user_id, product_id))
