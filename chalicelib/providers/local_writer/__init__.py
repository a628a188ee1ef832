"""The embedded listing writer: OCR, the seller's words and templates, on this machine, no keys.

- read: the prompt is parsed with patterns (`prompt`, `specs`), the packaging is read with rapidocr
  (`ocr`), and the brand is chosen from the text's own structure (`brand`). The prompt guides and
  corrects: a brand the seller typed wins, OCR confirms it.
- fill_attributes: the facts mapped onto the category's sheet by rules (`sheet`).
- write: a template title and a plain-text description in the site's language (`wording`).

`writer` is the LocalWriter that runs those steps; `words` and `confidence` are what they share.

The prompt and the packaging text are data: they only ever fill patterns, so text that reads like
an instruction matches nothing and changes nothing.
"""

from chalicelib.providers.local_writer.writer import LocalWriter

__all__ = ["LocalWriter"]
