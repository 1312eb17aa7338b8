output "instance_id" {
  description = "ID of the EC2 instance."
  value       = aws_instance.this.id
}

output "public_ip" {
  description = "Public IPv4 address of the instance (its Elastic IP)."
  value       = aws_eip.this.public_ip
}

output "public_dns" {
  description = "Public DNS name of the instance's Elastic IP."
  value       = aws_eip.this.public_dns
}

output "private_ip" {
  description = "Private IPv4 address of the instance inside its VPC."
  value       = aws_instance.this.private_ip
}

output "ami_id" {
  description = "ID of the Debian 12 image the instance was created from."
  value       = aws_instance.this.ami
}

output "vpc_id" {
  description = "ID of the VPC created for the instance."
  value       = aws_vpc.this.id
}

output "security_group_id" {
  description = "ID of the instance's security group."
  value       = aws_security_group.this.id
}

output "hosts" {
  description = "Addresses Ansible connects to (cloudya builds its inventory from them)."
  value       = [aws_eip.this.public_ip]
}

output "ssh_user" {
  description = "Login user of the Debian images on AWS."
  value       = "admin"
}
