"""`vms batch`: a task over a whole dataset of videos, resumable, with progress (see README "Datasets")."""
