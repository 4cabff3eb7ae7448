"""Getting articles into the store: readers per source kind, plus one normalisation stage."""
