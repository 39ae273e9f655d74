"""python -m reco_svc.train: the training job (reco_svc/offline/training_job.py)."""

from reco_svc.offline.training_job import main

if __name__ == "__main__":
    main()
