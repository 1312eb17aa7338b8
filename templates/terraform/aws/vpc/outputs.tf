output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, one per availability zone, in zone order."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per availability zone, in zone order."
  value       = aws_subnet.private[*].id
}

output "availability_zones" {
  description = "Availability zones the subnets were created in."
  value       = local.azs
}

output "internet_gateway_id" {
  description = "ID of the internet gateway attached to the VPC."
  value       = aws_internet_gateway.this.id
}

output "nat_gateway_public_ip" {
  description = "Public IPv4 address of the NAT gateway, or null when enable_nat_gateway is false."
  value       = var.enable_nat_gateway ? aws_eip.nat[0].public_ip : null
}
