-- Who closed an alert and why (ResolveAlert, DecideModeration).
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS resolution_note text;
