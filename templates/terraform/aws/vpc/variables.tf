# Input variables of the aws/vpc template. Each one mirrors a parameter of manifest.yaml
# (same name, same default); the validation blocks repeat the manifest's checks so that a
# direct `terraform plan` refuses the same values the cloudya CLI refuses.

variable "region" {
  description = "AWS region to create the VPC in (for example us-east-1 or eu-west-3)."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region code such as us-east-1 or eu-west-3."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC, a network address with a prefix length between /16 and /24."
  type        = string
  default     = "10.0.0.0/16"
  nullable    = false

  validation {
    condition = (
      can(regex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$", var.vpc_cidr)) &&
      can(cidrhost(var.vpc_cidr, 0)) &&
      try(cidrsubnet(var.vpc_cidr, 0, 0) == var.vpc_cidr, false) &&
      try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24, false)
    )
    error_message = "The vpc_cidr must be an IPv4 network address in CIDR notation with a prefix length between /16 and /24, for example 10.0.0.0/16."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread the subnets over (one public and one private subnet per zone)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = contains([1, 2, 3], var.az_count)
    error_message = "The az_count must be 1, 2 or 3."
  }
}

variable "enable_nat_gateway" {
  description = "Create a single NAT gateway (in the first public subnet) so that the private subnets can reach the internet."
  type        = bool
  default     = false
  nullable    = false
}

variable "name" {
  description = "Name prefix used in the Name tag of every resource."
  type        = string
  default     = "cloudya"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1 to 32 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}
