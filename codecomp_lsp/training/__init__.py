"""Tokenizer training, FIM data transform and model building for the codecomp models."""
