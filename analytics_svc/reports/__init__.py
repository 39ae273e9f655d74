"""Reading: the dashboard, every report type, funnels, retention, click-through, real-time and RPC
performance figures, and their SQL (queries/)."""
