#!/bin/bash
# Benign network chores that look a little like shells.
exec 3<>/dev/tcp/localhost/8080
echo -e "GET /health HTTP/1.0\r\n\r\n" >&3
cat <&3
timeout 1 bash -c "</dev/tcp/${HOST}/${PORT}" && echo open
nc -z -w 2 db.internal 5432 && echo "db up"
socat TCP-LISTEN:8080,fork,reuseaddr TCP:backend:80 &
openssl s_client -connect example.test:443 -servername example.test </dev/null | openssl x509 -noout -dates
curl -fsSL https://example.test/install.sh | sh
echo "ZWNobyBoaQ==" | base64 -d | sh
wget -nc -e robots=off https://example.test/files/
