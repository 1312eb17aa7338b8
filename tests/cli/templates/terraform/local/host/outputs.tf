output "hosts" {
  description = "The addresses Ansible connects to"
  value       = [var.host]
}

output "ssh_user" {
  description = "The login user (none: a local connection)"
  value       = ""
}

output "label" {
  description = "The label"
  value       = var.label
}

output "zones" {
  description = "The zones"
  value       = var.zones
}

output "token" {
  description = "The secret, back"
  value       = var.token
  sensitive   = true
}
