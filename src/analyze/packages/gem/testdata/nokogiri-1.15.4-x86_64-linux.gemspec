# -*- encoding: utf-8 -*-
# stub: nokogiri 1.15.4 x86_64-linux lib

Gem::Specification.new do |s|
  s.name = "nokogiri".freeze
  s.version = "1.15.4"
  s.platform = "x86_64-linux".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "homepage_uri" => "https://nokogiri.org" } if s.respond_to? :metadata=
  s.authors = ["Mike Dalessio".freeze, "Aaron Patterson".freeze]
  s.description = "Nokogiri (\u92F8) makes it easy and painless to work with XML and HTML from Ruby. # not a comment".freeze
  s.homepage = "https://nokogiri.org".freeze
  s.licenses = ["MIT".freeze]
  s.summary = "Nokogiri (\u92F8) makes it easy.".freeze

  s.add_runtime_dependency(%q<racc>.freeze, ["~> 1.4"])
end
