resource "terraform_data" "machine" {
  count = var.replicas
  input = "${var.label}-${count.index}"
}

resource "terraform_data" "network" {
  input = var.cidr
}
