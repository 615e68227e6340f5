"""Deployment artefacts generated from code: Grafana dashboards, Kafka topics, the PrometheusRule."""
