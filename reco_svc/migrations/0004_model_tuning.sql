-- What the training's automatic tuning chose and why (reco_svc/offline/tuning.py: family,
-- hyper-parameters, validation nDCG, candidates tried, budget); NULL for versions from before it.
ALTER TABLE reco_model_versions ADD COLUMN IF NOT EXISTS tuning jsonb;
