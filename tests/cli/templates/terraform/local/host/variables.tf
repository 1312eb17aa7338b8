variable "label" {
  description = "A label recorded in the state"
  type        = string
}

variable "host" {
  description = "The address Ansible connects to"
  type        = string
  default     = "localhost"
}

variable "replicas" {
  description = "How many copies"
  type        = number
  default     = 1
}

variable "zones" {
  description = "Zones"
  type        = list(string)
  default     = ["a"]
}

variable "cidr" {
  description = "A network"
  type        = string
  default     = "10.0.0.0/16"
}

variable "public" {
  description = "Whether it is public"
  type        = bool
  default     = false
}

variable "token" {
  description = "A secret value"
  type        = string
  default     = ""
  sensitive   = true
}
