"""SQL of the reports, one module per subject. Always parameterized: user input only
ever travels as bind parameters; the only text assembled here is placeholders and
column expressions chosen from fixed allow-lists."""
