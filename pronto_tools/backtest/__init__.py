"""What if: a shop's recorded history replayed through a candidate routing and SLA configuration."""
