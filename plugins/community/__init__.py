"""Community: peer meetings of former prisoners, and referral to partners near the family home (churches, pagodas, commune offices, employers, health centres)."""
