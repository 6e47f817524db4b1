terraform {
  # terraform_data is built in from 1.4; the callers require 1.5.
  required_version = ">= 1.5"
}
