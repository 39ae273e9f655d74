"""python -m reco_svc.evaluate: offline evaluation on a file (reco_svc/offline/file_evaluation.py)."""

import sys

from reco_svc.offline.file_evaluation import main

if __name__ == "__main__":
    sys.exit(main())
