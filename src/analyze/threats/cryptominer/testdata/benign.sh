#!/bin/sh
# Hashes and addresses that are not wallets, options that are not miner options.
COMMIT=0x52908400098527886e0f7030069857d2e4169ee7
CONTRACT="0xdAC17F958D2ee523a2206206994597C13D831ec7"
echo "Donate BTC: 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
curl -u deploy:token -o artifact.tgz https://example.test:8443/artifact.tgz
ssh -o StrictHostKeyChecking=no -p 2222 deploy@example.test
mysqldump -u root -p app > dump.sql
tar -czf notminexmr.com.tar.gz ./data
echo "see https://docs.example.test/minexmr.com.html"
