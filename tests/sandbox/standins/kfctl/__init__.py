"""kfctl simulator (test sandbox only); see README.md. Product code never imports this."""
