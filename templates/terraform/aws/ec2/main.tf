# aws/ec2: one Debian 12 instance reachable from the internet, in its own small VPC (one public
# subnet, an internet gateway and a default route), behind a security group that opens SSH
# (from ssh_cidr), HTTP and HTTPS. The instance keeps a stable address through an Elastic IP
# so the Ansible inventory built from the `hosts` output stays valid across stop/start.
# Credentials come from the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID...).

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      ManagedBy = "cloudya"
      Stack     = var.name
    }
  }
}

locals {
  vpc_cidr    = "10.20.0.0/16"
  subnet_cidr = "10.20.1.0/24"

  # Zones of the region that need no opt-in and offer the chosen instance type (t2 types,
  # for example, are missing from some zones).
  usable_azs = sort(tolist(setintersection(
    toset(data.aws_availability_zones.available.names),
    toset(data.aws_ec2_instance_type_offerings.in_zones.locations),
  )))
}

data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_ec2_instance_type_offerings" "in_zones" {
  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [var.instance_type]
  }
}

# The newest official Debian 12 image for amd64, published by Debian's AWS account.
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }

  filter {
    name   = "root-device-type"
    values = ["ebs"]
  }
}

resource "aws_vpc" "this" {
  cidr_block           = local.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = var.name
  }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${var.name}-igw"
  }
}

resource "aws_subnet" "public" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = local.subnet_cidr
  availability_zone       = local.usable_azs[0]
  map_public_ip_on_launch = true

  tags = {
    Name = "${var.name}-public"
  }

  lifecycle {
    precondition {
      condition     = length(local.usable_azs) > 0
      error_message = "No availability zone of ${var.region} offers the instance type ${var.instance_type}; choose another instance_type or region."
    }
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${var.name}-public"
  }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "Cloudya ${var.name}: SSH, HTTP and HTTPS in, everything out"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${var.name}-sg"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.this.id
  description       = "SSH"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.ssh_cidr
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  security_group_id = aws_security_group.this.id
  description       = "HTTP"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = "All outbound traffic"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_key_pair" "this" {
  key_name_prefix = "${var.name}-"
  public_key      = trimspace(var.ssh_public_key)

  tags = {
    Name = var.name
  }
}

resource "aws_instance" "this" {
  ami                         = data.aws_ami.debian.id
  instance_type               = var.instance_type
  subnet_id                   = aws_subnet.public.id
  vpc_security_group_ids      = [aws_security_group.this.id]
  key_name                    = aws_key_pair.this.key_name
  associate_public_ip_address = true

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gb
    encrypted             = true
    delete_on_termination = true
  }

  # IMDSv2 only.
  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tags = {
    Name = var.name
  }

  # A newer Debian image must not replace a running server on the next apply; redeploy to
  # pick one up.
  lifecycle {
    ignore_changes = [ami]
  }

  depends_on = [aws_route.public_internet]
}

resource "aws_eip" "this" {
  domain   = "vpc"
  instance = aws_instance.this.id

  tags = {
    Name = var.name
  }

  depends_on = [aws_internet_gateway.this]
}
