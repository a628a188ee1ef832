from chalice.app import Response

from chalicelib import products, retry
from chalicelib.api.edge import answer, body, caller, query
from chalicelib.api.schemas import (
    ImageOrder,
    MainImageChoice,
    NewImages,
    NewProduct,
    ProductFilters,
    ProductOut,
    ProductPage,
)
from functions.api import blueprint, route


@route(
    "/products",
    "POST",
    "Create a product and get an upload form per photo",
    status=201,
    body=NewProduct,
    response=ProductOut,
)
def create_product() -> Response:
    user_id = caller(blueprint.current_request)
    return answer(products.create(user_id, body(blueprint.current_request, NewProduct)), 201)


@route("/products", "GET", "The seller's products, newest first", query=ProductFilters, response=ProductPage)
def list_products() -> Response:
    user_id = caller(blueprint.current_request)
    return answer(products.list_products(user_id, query(blueprint.current_request, ProductFilters)))


@route(
    "/products/{product_id}",
    "GET",
    "One product with its photos and timeline",
    response=ProductOut,
    errors=(404,),
)
def get_product(product_id: str) -> Response:
    return answer(products.get(caller(blueprint.current_request), product_id))


@route(
    "/products/{product_id}",
    "DELETE",
    "Delete a product, its photos and everything made from them",
    status=204,
    errors=(404,),
)
def delete_product(product_id: str) -> Response:
    products.delete(caller(blueprint.current_request), product_id)
    return answer(None, 204)


@route(
    "/products/{product_id}/images",
    "POST",
    "Add photos (same limits, counting the ones it has)",
    status=201,
    body=NewImages,
    response=ProductOut,
    errors=(404, 409),
)
def add_images(product_id: str) -> Response:
    user_id = caller(blueprint.current_request)
    return answer(products.add_images(user_id, product_id, body(blueprint.current_request, NewImages)), 201)


@route(
    "/products/{product_id}/images/{image_id}",
    "DELETE",
    "Remove a photo",
    response=ProductOut,
    errors=(404, 409),
)
def delete_image(product_id: str, image_id: str) -> Response:
    return answer(products.delete_image(caller(blueprint.current_request), product_id, image_id))


@route(
    "/products/{product_id}/images/order",
    "PUT",
    "Put the photos in a new order",
    body=ImageOrder,
    response=ProductOut,
    errors=(404, 409),
)
def reorder_images(product_id: str) -> Response:
    user_id = caller(blueprint.current_request)
    return answer(products.reorder_images(user_id, product_id, body(blueprint.current_request, ImageOrder)))


@route(
    "/products/{product_id}/main-image",
    "PUT",
    "Choose the main photo",
    body=MainImageChoice,
    response=ProductOut,
    errors=(404, 409),
)
def choose_main_image(product_id: str) -> Response:
    user_id = caller(blueprint.current_request)
    choice = body(blueprint.current_request, MainImageChoice)
    return answer(products.choose_main_image(user_id, product_id, choice.image_id))


@route(
    "/products/{product_id}/retry",
    "POST",
    "Run the step that failed again (photos, listing or publishing), at the same revision",
    response=ProductOut,
    errors=(404, 409),
)
def retry_product(product_id: str) -> Response:
    return answer(retry.retry(caller(blueprint.current_request), product_id))
