"""Selling on MercadoLibre: the API client, the seller's connected account, the category cache."""
