"""How sure a fact is, by where it came from: the seller's word, confirmed by the packaging, is best."""

PROMPT_CONFIRMED = 0.97
PROMPT_STATED = 0.9
PROMPT_GUESSED = 0.8  # a word the prompt's shape suggests (the brand slot), not confirmed by the photos
OCR_SEEN_TWICE = 0.75
OCR_SEEN_ONCE = 0.6
