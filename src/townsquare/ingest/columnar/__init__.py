"""Files and pages normalized column by column (pyarrow); pushed records stay per record."""
