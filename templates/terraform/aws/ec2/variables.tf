# Input variables of the aws/ec2 template. Each one mirrors a parameter of manifest.yaml
# (same name, same default); the validation blocks repeat the manifest's checks so that a
# direct `terraform plan` refuses the same values the cloudya CLI refuses.

variable "region" {
  description = "AWS region to create the instance in (for example us-east-1 or eu-west-3)."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region code such as us-east-1 or eu-west-3."
  }
}

variable "instance_type" {
  description = "EC2 instance type (x86_64 types only: the image is Debian 12 amd64)."
  type        = string
  default     = "t2.micro"
  nullable    = false

  validation {
    condition = contains([
      "t2.micro", "t2.small", "t2.medium",
      "t3.micro", "t3.small", "t3.medium", "t3.large",
      "t3a.micro", "t3a.small", "t3a.medium",
    ], var.instance_type)
    error_message = "The instance_type must be one of t2.micro, t2.small, t2.medium, t3.micro, t3.small, t3.medium, t3.large, t3a.micro, t3a.small, t3a.medium."
  }
}

variable "root_volume_gb" {
  description = "Size of the root volume (gp3, encrypted) in GiB."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = floor(var.root_volume_gb) == var.root_volume_gb && var.root_volume_gb >= 8 && var.root_volume_gb <= 1024
    error_message = "The root_volume_gb must be a whole number of GiB between 8 and 1024."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key text (ssh-ed25519 or ssh-rsa) allowed to log in as the user admin."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa) [A-Za-z0-9+/]+={0,3}( [^\\r\\n]*)?$", trimspace(var.ssh_public_key)))
    error_message = "The ssh_public_key must be one OpenSSH public key line starting with ssh-ed25519 or ssh-rsa (the content of a .pub file), not a private key."
  }
}

variable "ssh_cidr" {
  description = "IPv4 CIDR allowed to reach SSH (port 22). The default allows the whole internet: narrow it to your own address, for example 203.0.113.7/32."
  type        = string
  default     = "0.0.0.0/0"
  nullable    = false

  validation {
    condition = (
      can(regex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$", var.ssh_cidr)) &&
      can(cidrhost(var.ssh_cidr, 0)) &&
      try(cidrsubnet(var.ssh_cidr, 0, 0) == var.ssh_cidr, false)
    )
    error_message = "The ssh_cidr must be an IPv4 network address in CIDR notation, for example 203.0.113.7/32 or 0.0.0.0/0."
  }
}

variable "name" {
  description = "Name prefix of the resources (Name tags, key pair and security group names)."
  type        = string
  default     = "cloudya"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$", var.name)) && !startswith(var.name, "sg-")
    error_message = "The name must be 1 to 32 characters of lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not start with \"sg-\"."
  }
}
