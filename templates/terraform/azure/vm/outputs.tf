output "vm_name" {
  description = "Name of the virtual machine."
  value       = azurerm_linux_virtual_machine.this.name
}

output "vm_id" {
  description = "Azure resource ID of the virtual machine."
  value       = azurerm_linux_virtual_machine.this.id
}

output "resource_group" {
  description = "Name of the resource group holding every resource of this deployment."
  value       = azurerm_resource_group.this.name
}

output "public_ip" {
  description = "Static public IPv4 address of the virtual machine."
  value       = azurerm_public_ip.this.ip_address
}

output "private_ip" {
  description = "Private IPv4 address of the virtual machine inside its virtual network."
  value       = azurerm_network_interface.this.private_ip_address
}

output "hosts" {
  description = "Addresses Ansible connects to (cloudya builds its inventory from them)."
  value       = [azurerm_public_ip.this.ip_address]
}

output "ssh_user" {
  description = "Login user of the virtual machine (admin_username)."
  value       = var.admin_username
}
