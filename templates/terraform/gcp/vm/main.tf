# gcp/vm: one Debian 12 Compute Engine instance with a static external address, in its own VPC
# network and subnetwork, with firewall rules opening SSH (from ssh_cidr), HTTP and HTTPS.
# Credentials come from the environment (GOOGLE_APPLICATION_CREDENTIALS or the gcloud
# application-default login); the project is the `project` parameter.

provider "google" {
  project = var.project
  region  = var.region
  zone    = var.zone
}

locals {
  subnet_cidr = "10.30.1.0/24"

  # The firewall rules apply to the instances carrying this network tag.
  network_tag = "${var.name}-web"

  labels = {
    managed_by = "cloudya"
    stack      = var.name
  }
}

resource "google_compute_network" "this" {
  name                    = "${var.name}-net"
  auto_create_subnetworks = false
  description             = "Cloudya ${var.name} network"
}

resource "google_compute_subnetwork" "this" {
  name          = "${var.name}-subnet"
  region        = var.region
  network       = google_compute_network.this.id
  ip_cidr_range = local.subnet_cidr
}

resource "google_compute_firewall" "ssh" {
  name          = "${var.name}-allow-ssh"
  network       = google_compute_network.this.name
  direction     = "INGRESS"
  source_ranges = [var.ssh_cidr]
  target_tags   = [local.network_tag]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_firewall" "web" {
  name          = "${var.name}-allow-web"
  network       = google_compute_network.this.name
  direction     = "INGRESS"
  source_ranges = ["0.0.0.0/0"]
  target_tags   = [local.network_tag]

  allow {
    protocol = "tcp"
    ports    = ["80", "443"]
  }
}

resource "google_compute_address" "this" {
  name         = "${var.name}-ip"
  region       = var.region
  address_type = "EXTERNAL"
}

resource "google_compute_instance" "this" {
  name                      = var.name
  zone                      = var.zone
  machine_type              = var.machine_type
  tags                      = [local.network_tag]
  labels                    = local.labels
  allow_stopping_for_update = true

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = var.disk_gb
      type  = "pd-balanced"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.this.id

    access_config {
      nat_ip = google_compute_address.this.address
    }
  }

  # The guest agent of the Debian images creates ssh_user with passwordless sudo from this key.
  # OS Login is turned off for this instance so the key is honoured (an organisation policy
  # that enforces OS Login still wins; see README).
  metadata = {
    ssh-keys       = "${var.ssh_user}:${trimspace(var.ssh_public_key)}"
    enable-oslogin = "FALSE"
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  # A newer Debian image must not replace a running server on the next apply.
  lifecycle {
    ignore_changes = [boot_disk[0].initialize_params[0].image]

    precondition {
      condition     = startswith(var.zone, "${var.region}-")
      error_message = "The zone ${var.zone} is not in the region ${var.region}; choose a zone such as ${var.region}-b."
    }
  }

  depends_on = [google_compute_firewall.ssh, google_compute_firewall.web]
}
