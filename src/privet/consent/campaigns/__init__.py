"""Material-change campaigns (P30): tell each person whose consent covers a materially changed purpose, and count
what happened (sent, failed, re-consented)."""
