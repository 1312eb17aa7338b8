-- 0002_containers: placeholder
SELECT 1;
