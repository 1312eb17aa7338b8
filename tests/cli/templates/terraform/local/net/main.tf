resource "terraform_data" "network" {
  input = var.cidr
}
