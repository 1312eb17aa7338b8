variable "cidr" {
  type    = string
  default = "10.1.0.0/16"
}
