import { describe, expect, it } from 'vitest';
import { toSeries } from '../../../src/export/remote-write-request.ts';
import { promString, quantileStatistic, yaceLabelName, yaceMetricName } from '../../../src/export/yace-names.ts';
import { encodeMetricsRequest, jsonNanos, jsonString } from '../../../src/otlp/schema.ts';

// Each row is what YACE's BuildMetricName (pkg/promutil/migrate.go) writes for the namespace, metric and statistic.
describe("YACE's metric names", () => {
  it.each([
    ['AWS/EC2', 'CPUUtilization', 'Average', 'aws_ec2_cpuutilization_average'],
    ['AWS/EC2', 'CPUUtilization', 'Maximum', 'aws_ec2_cpuutilization_maximum'],
    ['AWS/RDS', 'FreeableMemory', 'Minimum', 'aws_rds_freeable_memory_minimum'],
    ['AWS/EBS', 'VolumeReadOps', 'SampleCount', 'aws_ebs_volume_read_ops_sample_count'],
    ['AWS/DynamoDB', 'ConsumedReadCapacityUnits', 'Sum', 'aws_dynamodb_consumed_read_capacity_units_sum'],
    ['AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', 'Sum', 'aws_applicationelb_httpcode_target_5_xx_count_sum'],
    ['AWS/ES', 'ClusterStatus.green', 'Maximum', 'aws_es_cluster_status_green_maximum'],
    ['AWS/Glue', 'glue.driver.aggregate.bytesRead', 'Sum', 'aws_glue_driver_aggregate_bytes_read_sum'],
    ['AWS/Kafka', 'KafkaDataLogsDiskUsed', 'Average', 'aws_kafka_data_logs_disk_used_average'],
    ['/aws/sagemaker/TrainingJobs', 'CPUUtilization', 'Average', 'aws_sagemaker_trainingjobs_cpuutilization_average'],
    ['CWAgent', 'mem_used_percent', 'Average', 'aws_cwagent_mem_used_percent_average'],
    ['Custom/App', 'Latency%', 'Maximum', 'aws_custom_app_latency_percent_maximum'],
    ['AWS/Lambda', 'Duration', 'p99', 'aws_lambda_duration_p99'],
    ['AWS/Lambda', 'Duration', 'p99.9', 'aws_lambda_duration_p99_9'],
    ['AWS/EC2', 'info', '', 'aws_ec2_info'],
  ])('%s %s %s → %s', (namespace, metric, statistic, name) => {
    expect(yaceMetricName(namespace, metric, statistic)).toBe(name);
  });

  it.each([
    ['CPUUtilization', 'cpuutilization'],
    ['FreeableMemory', 'freeable_memory'],
    ['NetworkPacketsIn', 'network_packets_in'],
    ['EBSIOBalance%', 'ebsiobalance_percent'],
    ['StatusCheckFailed_Instance', 'status_check_failed_instance'],
    ['aws/ec2', 'aws_ec2'],
    ['a.b-c d:e=f@g<h>i(j)k,l\\m', 'a_b_c_d_e_f_g_h_i_j_k_l_m'],
  ])('snake-cases %s as %s', (text, snake) => {
    expect(promString(text)).toBe(snake);
  });

  it.each([
    ['InstanceId', 'InstanceId'],
    ['aws:cloudformation:stack-name', 'aws_cloudformation_stack_name'],
    ['Cost%Center', 'Cost_percentCenter'],
    ['Status.Check.Failed_Instance', 'Status_Check_Failed_Instance'],
  ])('keeps the case of label name %s: %s', (text, label) => {
    expect(yaceLabelName(text)).toBe(label);
  });

  it.each([
    [0, 'Minimum'],
    [1, 'Maximum'],
    [0.5, 'p50'],
    [0.99, 'p99'],
    [0.999, 'p99.9'],
    [0.9999, 'p99.99'],
  ])('names quantile %s as the statistic %s', (quantile, statistic) => {
    expect(quantileStatistic(quantile)).toBe(statistic);
  });
});

describe('a metric-stream summary under YACE names', () => {
  const T = 1_795_000_000_000;
  const point = (attributes: Array<[string, string]>) => ({
    name: 'amazonaws.com/AWS/EC2/CPUUtilization',
    unit: 'Percent',
    summary: {
      dataPoints: [
        {
          attributes: attributes.map(([k, v]) => jsonString(k, v)),
          startTimeUnixNano: jsonNanos(T - 60_000),
          timeUnixNano: jsonNanos(T),
          count: '4',
          sum: 10,
          quantileValues: [
            { quantile: 0, value: 1 },
            { quantile: 0.99, value: 3.9 },
            { quantile: 1, value: 4 },
          ],
        },
      ],
    },
  });
  const resource: Array<[string, string]> = [
    ['cloud.provider', 'aws'],
    ['cloud.account.id', '123456789012'],
    ['cloud.region', 'eu-west-1'],
  ];
  const arn = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc';
  const series = (payload: Uint8Array): Array<Record<string, any>> =>
    [...toSeries(payload, 'yace').series()].map((s) => ({ ...Object.fromEntries(s.labels), samples: s.samples.map((x) => [x.timestampMs, x.value]) }));

  it('is one series per statistic with dimension_, tag_, name, region and account_id labels, at the CloudWatch time, and an info series', () => {
    const payload = encodeMetricsRequest(resource, [
      point([
        ['Namespace', 'AWS/EC2'],
        ['MetricName', 'CPUUtilization'],
        ['InstanceId', 'i-0abc'],
        ['cloud.resource_id', arn],
        ['aws.tag.team', 'platform'],
        ['aws.tag.aws:cloudformation:stack-name', 'web'],
        ['host.type', 'm6i.large'],
      ]),
    ]);
    const labels = {
      dimension_InstanceId: 'i-0abc',
      tag_team: 'platform',
      tag_aws_cloudformation_stack_name: 'web',
      name: arn,
      region: 'eu-west-1',
      account_id: '123456789012',
    };
    const got = series(payload);
    const value = (name: string) => got.find((s) => s.__name__ === name);
    expect(got.map((s) => s.__name__).sort()).toEqual(
      [
        'aws_ec2_cpuutilization_average',
        'aws_ec2_cpuutilization_maximum',
        'aws_ec2_cpuutilization_minimum',
        'aws_ec2_cpuutilization_p99',
        'aws_ec2_cpuutilization_sample_count',
        'aws_ec2_cpuutilization_sum',
        'aws_ec2_info',
      ].sort(),
    );
    expect(value('aws_ec2_cpuutilization_maximum')).toEqual({ __name__: 'aws_ec2_cpuutilization_maximum', ...labels, samples: [[T, 4]] });
    expect(value('aws_ec2_cpuutilization_average')!.samples).toEqual([[T, 2.5]]);
    expect(value('aws_ec2_cpuutilization_minimum')!.samples).toEqual([[T, 1]]);
    expect(value('aws_ec2_cpuutilization_p99')!.samples).toEqual([[T, 3.9]]);
    expect(value('aws_ec2_cpuutilization_sample_count')!.samples).toEqual([[T, 4]]);
    expect(value('aws_ec2_cpuutilization_sum')!.samples).toEqual([[T, 10]]);
    const { dimension_InstanceId: _, ...infoLabels } = labels;
    expect(value('aws_ec2_info')).toEqual({ __name__: 'aws_ec2_info', ...infoLabels, samples: [[T, 0]] });
  });

  it('names a point of no known resource global and writes no info series for it', () => {
    const got = series(
      encodeMetricsRequest(resource, [
        point([
          ['Namespace', 'AWS/EC2'],
          ['MetricName', 'CPUUtilization'],
          ['InstanceId', 'i-0unknown'],
        ]),
      ]),
    );
    expect(new Set(got.map((s) => s.name))).toEqual(new Set(['global']));
    expect(got.some((s) => s.__name__ === 'aws_ec2_info')).toBe(false);
  });

  it('takes tags and the resource from the OTLP resource when enrichment puts them there', () => {
    const got = series(
      encodeMetricsRequest(
        [...resource, ['cloud.resource_id', arn], ['aws.tag.team', 'platform']],
        [
          point([
            ['Namespace', 'AWS/EC2'],
            ['MetricName', 'CPUUtilization'],
            ['InstanceId', 'i-0abc'],
          ]),
        ],
      ),
    );
    expect(got.find((s) => s.__name__ === 'aws_ec2_cpuutilization_sum')).toMatchObject({ name: arn, tag_team: 'platform', dimension_InstanceId: 'i-0abc' });
  });
});
