"""What every process runs beside the services: HTTP server, health, metrics, logs, clock."""
