"""LoRA fine-tuning: datasets, estimates, a job runner (one worker process per job), adapters.

The app only writes job folders and watches them; the training itself runs in
``python -m studio.train.worker JOBDIR``, so a crash or an out-of-memory cannot take the app down.
"""
