output "instance_name" {
  description = "Name of the Compute Engine instance."
  value       = google_compute_instance.this.name
}

output "instance_id" {
  description = "Server-assigned ID of the instance."
  value       = google_compute_instance.this.instance_id
}

output "zone" {
  description = "Zone of the instance."
  value       = google_compute_instance.this.zone
}

output "public_ip" {
  description = "Static external IPv4 address of the instance."
  value       = google_compute_address.this.address
}

output "private_ip" {
  description = "Internal IPv4 address of the instance."
  value       = google_compute_instance.this.network_interface[0].network_ip
}

output "network" {
  description = "Name of the VPC network created for the instance."
  value       = google_compute_network.this.name
}

output "hosts" {
  description = "Addresses Ansible connects to (cloudya builds its inventory from them)."
  value       = [google_compute_address.this.address]
}

output "ssh_user" {
  description = "Login user created from ssh_public_key."
  value       = var.ssh_user
}
