# Input variables of the azure/vm template. Each one mirrors a parameter of manifest.yaml
# (same name, same default); the validation blocks repeat the manifest's checks so that a
# direct `terraform plan` refuses the same values the cloudya CLI refuses.

variable "location" {
  description = "Azure region (location name without spaces, for example westeurope or eastus)."
  type        = string
  default     = "westeurope"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "The location must be an Azure location name in lowercase without spaces, such as westeurope or eastus."
  }
}

variable "vm_size" {
  description = "Azure VM size (it must support Generation 2 images)."
  type        = string
  default     = "Standard_B1s"
  nullable    = false

  validation {
    condition = contains([
      "Standard_B1s", "Standard_B1ms", "Standard_B2s", "Standard_B2ms",
      "Standard_D2s_v5", "Standard_D2as_v5", "Standard_D4s_v5",
    ], var.vm_size)
    error_message = "The vm_size must be one of Standard_B1s, Standard_B1ms, Standard_B2s, Standard_B2ms, Standard_D2s_v5, Standard_D2as_v5, Standard_D4s_v5."
  }
}

variable "admin_username" {
  description = "Administrator user of the VM, who logs in with ssh_public_key (passwordless sudo)."
  type        = string
  default     = "cloudya"
  nullable    = false

  validation {
    condition = (
      can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.admin_username)) &&
      !contains([
        "1", "123", "a", "actuser", "adm", "admin", "admin1", "admin2", "administrator",
        "aspnet", "backup", "console", "david", "guest", "john", "owner", "root", "server",
        "sql", "support", "support_388945a0", "sys", "test", "test1", "test2", "test3",
        "user", "user1", "user2", "user3", "user4", "user5",
      ], var.admin_username)
    )
    error_message = "The admin_username must be a Linux user name of at most 32 lowercase letters, digits, underscores and hyphens, and not a name Azure reserves (admin, root, user, test, guest...)."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH RSA public key text (ssh-rsa, at least 2048 bits) allowed to log in as admin_username."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^ssh-rsa [A-Za-z0-9+/]+={0,3}( [^\\r\\n]*)?$", trimspace(var.ssh_public_key)))
    error_message = "The ssh_public_key must be one OpenSSH RSA public key line starting with ssh-rsa (the content of a .pub file); the azurerm provider accepts only RSA keys of 2048 bits or more."
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
  description = "Size of the OS disk (Standard SSD) in GiB; the Debian image needs at least 30."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = floor(var.disk_gb) == var.disk_gb && var.disk_gb >= 30 && var.disk_gb <= 1024
    error_message = "The disk_gb must be a whole number of GiB between 30 and 1024."
  }
}

variable "name" {
  description = "Name of the VM and prefix of the other resources' names (the resource group is <name>-rg)."
  type        = string
  default     = "cloudya"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$", var.name))
    error_message = "The name must be 1 to 32 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}
