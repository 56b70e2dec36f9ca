"""Use cases. Each public function is one database transaction and owns its commit."""
