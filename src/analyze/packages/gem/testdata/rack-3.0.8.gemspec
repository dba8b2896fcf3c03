# -*- encoding: utf-8 -*-
Gem::Specification.new do |spec|
  spec.name = %q<rack>.freeze # the name
  spec.version = Gem::Version.new("3.0.8")
  spec.license = 'MIT'
  spec.homepage = "https://github.com/rack/#{spec.name}".freeze
end
