"""Long jobs (detect, track, summarize, augment) that outlive the process that ran them."""
