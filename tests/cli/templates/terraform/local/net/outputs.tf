output "cidr" {
  value = var.cidr
}
