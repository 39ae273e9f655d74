-- The comment's parts, each scored on its own (feedback_svc/sentiment/comment_sentiment.py), written by
-- the analysis with the overall score: [{"text", "sentiment_score", "sentiment_label", "weight",
-- "aspects"}]. Rows analysed before this column have none.
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS parts jsonb NOT NULL DEFAULT '[]';
