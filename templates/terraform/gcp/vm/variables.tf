# Input variables of the gcp/vm template. Each one mirrors a parameter of manifest.yaml
# (same name, same default); the validation blocks repeat the manifest's checks so that a
# direct `terraform plan` refuses the same values the cloudya CLI refuses.

variable "project" {
  description = "ID of the Google Cloud project to create the resources in."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "The project must be a Google Cloud project ID: 6 to 30 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Google Cloud region of the network and the static address (for example europe-west1)."
  type        = string
  default     = "europe-west1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "The region must be a Google Cloud region such as europe-west1 or us-central1."
  }
}

variable "zone" {
  description = "Zone of the instance; it must be in the region (for example europe-west1-b)."
  type        = string
  default     = "europe-west1-b"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+-[a-z]$", var.zone))
    error_message = "The zone must be a Google Cloud zone such as europe-west1-b."
  }
}

variable "machine_type" {
  description = "Compute Engine machine type."
  type        = string
  default     = "e2-micro"
  nullable    = false

  validation {
    condition = contains([
      "e2-micro", "e2-small", "e2-medium",
      "e2-standard-2", "e2-standard-4",
      "n2-standard-2", "n2-standard-4",
    ], var.machine_type)
    error_message = "The machine_type must be one of e2-micro, e2-small, e2-medium, e2-standard-2, e2-standard-4, n2-standard-2, n2-standard-4."
  }
}

variable "ssh_user" {
  description = "Login user created on the instance for ssh_public_key (it gets passwordless sudo)."
  type        = string
  default     = "cloudya"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.ssh_user)) && var.ssh_user != "root"
    error_message = "The ssh_user must be a Linux user name of at most 32 lowercase letters, digits, underscores and hyphens, and not root."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key text (ssh-ed25519, ecdsa-sha2-* or ssh-rsa) allowed to log in as ssh_user."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\\r\\n]*)?$", trimspace(var.ssh_public_key)))
    error_message = "The ssh_public_key must be one OpenSSH public key line starting with ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (the content of a .pub file), not a private key."
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

variable "disk_gb" {
  description = "Size of the boot disk (pd-balanced) in GB."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = floor(var.disk_gb) == var.disk_gb && var.disk_gb >= 10 && var.disk_gb <= 1024
    error_message = "The disk_gb must be a whole number of GB between 10 and 1024."
  }
}

variable "name" {
  description = "Name of the instance and prefix of the other resources' names (unique within the project)."
  type        = string
  default     = "cloudya"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1 to 32 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}
