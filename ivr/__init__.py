"""The ARI (Stasis) application behind the phone hotline."""
